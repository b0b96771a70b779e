import { defineScripts, type RedisClient } from '@herald/redis'
import { otpCheck } from './otp-check-3'
import { otpRelease } from './otp-release-2'
import { otpReserve } from './otp-reserve-3'
import { smsRefund } from './sms-refund-1'
import { smsSpend } from './sms-spend-1'

const COMMANDS = [otpReserve, otpRelease, otpCheck, smsSpend, smsRefund]

/** A Redis client with auth's Lua commands (the argument order is each script's header). */
export type AuthRedis = RedisClient & {
  heraldOtpReserve(...args: [string, string, string, string, number, number, number, number]): Promise<[number, number]>
  heraldOtpRelease(cooldown: string, daily: string, reservation: string): Promise<number>
  heraldOtpCheck(
    ...args: [string, string, string, string, number, number, number, string]
  ): Promise<[number, number | string]>
  heraldSmsSpend(spend: string, country: string, global: number, perCountry: number, ttlMs: number): Promise<[number]>
  heraldSmsRefund(spend: string, country: string): Promise<number>
}

/** Defines auth's Lua commands on a client once (ioredis loads them with EVALSHA, falling back to EVAL). */
export function withAuthCommands(redis: RedisClient): AuthRedis {
  return defineScripts(redis, COMMANDS) as unknown as AuthRedis
}
