export { buildApp, type GatewayAppDeps } from './app'
export { GatewayConfig, loadGatewayConfig } from './config'
