// A cloud function without dependencies whose behaviour the message's Content picks. wxemu's
// specs use it to check the runner's contract (the ways to answer and to fail, the limits, the
// environment) without an SDK; the fixtures in fixtures/functions check the SDK's side.
const http = require('http')

// Module state lives as long as the warm worker: a cold start begins again at 1.
let invocations = 0

function transfer(event) {
  return {
    ToUserName: event.FromUserName,
    FromUserName: event.ToUserName,
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'transfer_customer_service',
  }
}

// get waits for a loopback URL to answer: a spec holds the invocation open with it.
function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume()
      res.on('end', resolve)
    }).on('error', reject)
  })
}

exports.main = function (event, context) {
  invocations++
  const [cmd, arg] = (event.Content || '').split(' ')
  console.log(`invocation ${invocations} pid ${process.pid}`)
  switch (cmd) {
    case 'env':
      console.log(JSON.stringify({ context, env: process.env }))
      return Promise.resolve('success')
    case 'hold':
      console.log('token ' + process.env.WX_API_TOKEN)
      return get(arg).then(() => 'success')
    case 'hang':
      console.log('token ' + process.env.WX_API_TOKEN)
      return new Promise(() => setInterval(() => {}, 1000))
    case 'throw':
      throw new Error('thrown on purpose')
    case 'reject':
      return Promise.reject(new Error('rejected on purpose'))
    case 'uncaught':
      setTimeout(() => { throw new Error('thrown later, outside the promise') }, 0)
      return new Promise(() => {})
    case 'exit':
      process.exit(3)
      break
    case 'big':
      return Promise.resolve(Object.assign(transfer(event), { Padding: 'x'.repeat(1100000) }))
    case 'number':
      return 42
    case 'string':
      return 'hello'
    case 'empty':
      return ''
    case 'nothing':
      return undefined
    case 'done':
      // Returns nothing and answers later through context.done.
      setTimeout(() => context.done(null, transfer(event)), 20)
      return undefined
    case 'transfer':
      return Promise.resolve(transfer(event))
    case 'stdout':
      process.stdout.write('to stdout\n')
      process.stderr.write('to stderr\n')
      return 'success'
  }
  return 'success'
}
