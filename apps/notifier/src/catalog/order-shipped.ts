import { OrderShippedData } from '@herald/contracts'
import { defineEvent } from './types'

export const orderShipped = defineEvent({
  type: 'order.shipped',
  description: 'An order left the warehouse: tells its buyer, with the carrier and tracking number when known.',
  schema: OrderShippedData,
  example: { userId: 'u_3b9f2c', orderId: 'ord_1001', carrier: 'DHL', trackingNumber: 'JD0146000012345' },
  handle({ data }) {
    const via = data.carrier ? ` with ${data.carrier}` : ''
    const tracking = data.trackingNumber ? ` (tracking ${data.trackingNumber})` : ''
    return {
      to: 'users',
      messages: [
        {
          userId: data.userId,
          kind: 'order.shipped',
          title: 'Your order has shipped',
          body: `Order ${data.orderId} is on its way${via}${tracking}.`,
          data: {
            orderId: data.orderId,
            ...(data.carrier ? { carrier: data.carrier } : {}),
            ...(data.trackingNumber ? { trackingNumber: data.trackingNumber } : {}),
          },
        },
      ],
    }
  },
})
