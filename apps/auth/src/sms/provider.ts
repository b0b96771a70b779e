export interface SmsMessage {
  /** E.164 */
  to: string
  text: string
  /** the code in `text`: only the dev provider keeps it, for GET /auth/dev/sms/:phone */
  code: string
}

/** Sends one SMS; rejects (with an SmsSendError) when the message was not accepted. */
export interface SmsProvider {
  readonly name: string
  send(message: SmsMessage): Promise<void>
}
