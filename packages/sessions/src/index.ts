export { sessionTouch as sessionTouchScript } from './commands/session-touch-1'
export * from './store'
