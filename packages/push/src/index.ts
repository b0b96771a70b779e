export * from './sender'
export * from './subscriptions'
