/** Presence reads, for whoever needs them (the notifier imports @herald/presence directly). */
export { getPresence, getStats, type Presence, type PresenceStats } from '@herald/presence'
