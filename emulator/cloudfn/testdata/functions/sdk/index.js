// Shows what the real wx-server-sdk makes of wxemu's answers: it prints the SDK's results and
// errors for wxemu's specs to read. It borrows the SDK installed for fixtures/functions/image
// (.ci/run installs it), so nothing is installed twice.
const path = require('path')
const cloud = require(path.join(__dirname, '..', '..', '..', '..', '..', 'fixtures', 'functions', 'image', 'node_modules', 'wx-server-sdk'))

cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')

function show(name, value) {
  console.log(name + ' ' + JSON.stringify(value))
}

async function attempt(name, call) {
  try {
    show(name, await call())
  } catch (e) {
    show(name, { thrown: true, errCode: e.errCode, errMsg: e.errMsg })
  }
}

exports.main = async (event, context) => {
  const { OPENID } = cloud.getWXContext()
  const cs = cloud.openapi.customerServiceMessage
  if (event.Content === 'late') {
    // A call the function does not await: it runs after the invocation has ended.
    setTimeout(() => attempt('late', () => cs.send({ touser: OPENID, msgtype: 'text', text: { content: 'too late' } })), 50)
    return 'success'
  }
  show('context', cloud.getWXContext())
  await attempt('send', () => cs.send({ touser: OPENID, msgtype: 'text', text: { content: '收到' } }))
  await attempt('typing', () => cs.setTyping({ touser: OPENID, command: 'Typing' }))
  await attempt('again', () => cs.setTyping({ touser: OPENID, command: 'Typing' }))
  let mediaId = ''
  await attempt('upload', async () => {
    const r = await cs.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: PNG } })
    mediaId = r.mediaId
    return r
  })
  await attempt('get', async () => {
    const r = await cs.getTempMedia({ mediaId })
    return { contentType: r.contentType, same: Buffer.compare(r.buffer, PNG) === 0, errCode: r.errCode, errMsg: r.errMsg }
  })
  await attempt('call', async () => (await cloud.callFunction({ name: 'state', data: { Content: 'transfer' } })).result)
  await attempt('database', () => cloud.database().collection('orders').get())
  return 'success'
}
