export * from './inbox'
export * from './preferences'
