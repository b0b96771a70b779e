export { PHONE_CLAIM_LIB } from './commands/phone-claim-1'
export * from './store'
