// The SDK from a plain <script type="module">, no bundler. The demo page keeps the session
// token in this tab's sessionStorage.
import { createClient } from '/sdk/herald-client.js'

const client = createClient({ getToken: () => sessionStorage.getItem('herald.token') })
client.on('status', ({ newState }) => {
  document.getElementById('state').textContent = newState + (client.replica ? ` (${client.replica})` : '')
})
client.on('connected', ({ replica }) => {
  document.getElementById('state').textContent = `connected (${replica})`
})
client.on('message', (m) => {
  const li = document.createElement('li')
  li.dataset.id = m.id
  li.textContent = `${m.title} — ${m.body}`
  document.getElementById('out').prepend(li)
})
// retracted by the sender, or past its expiresAt
client.on('retract', ({ ids }) => {
  for (const li of document.querySelectorAll('#out li')) if (ids.includes(li.dataset.id)) li.remove()
})
client.connect()
