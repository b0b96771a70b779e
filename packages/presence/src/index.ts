export * from './read'
export * from './routing'
export * from './write'
