export * from './registry'
export * from './sender'
export * from './signer'
export * from './ssrf'
