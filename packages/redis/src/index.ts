export * from './client'
export * from './durability'
export * from './scripts'
export * from './url'
