export * from './processes'
export * from './render-nginx'
export * from './stack'
export * from './token'
