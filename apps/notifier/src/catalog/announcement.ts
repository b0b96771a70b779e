import { AnnouncementData } from '@herald/contracts'
import { defineEvent } from './types'

export const announcement = defineEvent({
  type: 'announcement',
  description: 'A message for every user (one message id, written to every inbox in one pipeline).',
  schema: AnnouncementData,
  example: { title: 'Maintenance tonight', body: 'herald will be read-only from 02:00 to 02:15 UTC.' },
  handle({ data }) {
    return { to: 'all', message: { kind: 'announcement', title: data.title, body: data.body, data: {} } }
  },
})
