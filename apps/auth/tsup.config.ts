import { serviceBuild } from '../../tsup.service'

export default serviceBuild({ main: 'src/main.ts' })
