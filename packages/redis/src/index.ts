export * from './scripts'
export * from './url'
