/**
 * Prints a new VAPID key pair for Web Push, as the notifier's environment lines:
 *   pnpm run vapid-keys >> .env
 * Generate it once per deployment and keep it: browsers subscribed with the public key,
 * and a new pair orphans every subscription.
 */
import { generateVapidKeys } from '@herald/push'

const { publicKey, privateKey } = generateVapidKeys()
process.stdout.write(`PUSH_VAPID_PUBLIC_KEY=${publicKey}\nPUSH_VAPID_PRIVATE_KEY=${privateKey}\n`)
