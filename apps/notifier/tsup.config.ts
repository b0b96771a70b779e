import { serviceBuild } from '../../tsup.service'

/** Two entry points from one codebase: the HTTP API and the BullMQ worker. */
export default serviceBuild({ main: 'src/main.ts', 'worker-main': 'src/worker-main.ts' })
