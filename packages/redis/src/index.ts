export * from './client'
export * from './scripts'
export * from './url'
