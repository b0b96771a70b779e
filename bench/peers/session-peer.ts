import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto'
import { RedisStore } from 'connect-redis'
import express from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { env, json } from './common'

/**
 * The auth peer: Express 5 + express-session + connect-redis with rolling sessions, serving
 * the same "who am I, refresh my session" route and the same code + login flow as herald's
 * auth (a 6-digit code kept as an HMAC for 2 minutes, a resend wait, single use).
 */
declare module 'express-session' {
  interface SessionData {
    userId: string
    nickname: string
    phone: string
    device: string
  }
}

const OTP_SECRET = process.env.OTP_SECRET ?? 'bench-otp-secret'
const client = createClient({ url: env.redisUrl })
client.on('error', () => {})
await client.connect()

const hmac = (phone: string, code: string) => createHmac('sha256', OTP_SECRET).update(`${phone}:${code}`).digest()
const mask = (phone: string) => `${phone.slice(0, 6)}****${phone.slice(-4)}`
const PHONE_RE = /^\+[1-9]\d{7,14}$/

const app = express()
app.disable('x-powered-by')
app.set('trust proxy', 'loopback')
app.use(express.json({ limit: '64kb' }))
app.use(
  session({
    store: new RedisStore({ client, prefix: 'sess:' }),
    secret: process.env.SESSION_SECRET ?? 'bench-session-secret',
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { maxAge: env.idleMs, httpOnly: true, sameSite: 'lax' },
  }),
)

app.get(['/readyz', '/healthz'], (_req, res) => {
  res.json({ ok: true })
})

app.post('/auth/code', async (req, res) => {
  const phone = String(req.body?.phone ?? '')
  if (!PHONE_RE.test(phone)) return json(res, 400, { code: 'INVALID_PHONE' })
  const fresh = await client.set(`resend:${phone}`, '1', { EX: 60, NX: true } as never)
  if (fresh !== 'OK') return json(res, 429, { code: 'TOO_MANY_REQUESTS' })
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
  await client
    .multi()
    .set(`code:${phone}`, hmac(phone, code).toString('hex'), { EX: 120 } as never)
    .set(`devsms:${phone}`, code, { EX: 120 } as never)
    .del(`tries:${phone}`)
    .exec()
  json(res, 202, { expiresIn: 120, resendIn: 60 })
})

app.get('/auth/dev/sms/:phone', async (req, res) => {
  const code = await client.get(`devsms:${req.params.phone}`)
  if (!code) return json(res, 404, { code: 'NOT_FOUND' })
  json(res, 200, { code })
})

app.post('/auth/login', async (req, res, next) => {
  const phone = String(req.body?.phone ?? '')
  const code = String(req.body?.code ?? '')
  const stored = await client.get(`code:${phone}`)
  const ok = stored !== null && timingSafeEqual(Buffer.from(stored, 'hex'), hmac(phone, code))
  if (!ok) {
    if (stored !== null && (await client.incr(`tries:${phone}`)) >= 5) await client.del(`code:${phone}`)
    return json(res, 401, { code: 'INVALID_CODE' })
  }
  await client.del([`code:${phone}`, `devsms:${phone}`])
  let userId = await client.hGet('users:byPhone', phone)
  if (!userId) {
    userId = `u_${randomUUID().slice(0, 12)}`
    await client.hSetNX('users:byPhone', phone, userId)
    userId = (await client.hGet('users:byPhone', phone)) as string
  }
  const uid = userId
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.userId = uid
    req.session.nickname = `user-${uid.slice(2, 8)}`
    req.session.phone = mask(phone)
    req.session.device = String(req.body?.device ?? 'web')
    req.session.save((e) => {
      if (e) return next(e)
      json(res, 200, {
        token: req.sessionID,
        expiresIn: env.idleMs / 1000,
        user: { id: uid, nickname: req.session.nickname, phone: req.session.phone },
      })
    })
  })
})

app.get('/auth/me', (req, res) => {
  const s = req.session
  if (!s.userId) return json(res, 401, { code: 'UNAUTHORIZED' })
  json(res, 200, { id: s.userId, nickname: s.nickname, phone: s.phone })
})

const server = app.listen(env.port, '127.0.0.1')
process.on('SIGTERM', () => {
  server.close()
  void client.quit().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
})
