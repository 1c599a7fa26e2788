// Captures what the real wx-server-sdk puts on the wire, for the codec's specs
// (proto_test.go): the requestData (CommApiData protobuf) of each customerServiceMessage call,
// and CommOpenApiResp answers encoded by the SDK's own protobuf library.
//
//   node emulator/cloudfn/testdata/capture.js fixtures/functions/image sdk4
//   node emulator/cloudfn/testdata/capture.js fixtures/functions/kf-v2 sdk2
//   node emulator/cloudfn/testdata/capture.js fixtures/functions/kf-v1 sdk1
//
// The folder is a function whose node_modules hold wx-server-sdk (.ci/run installs them); the
// second argument prefixes the files written to emulator/cloudfn/testdata/proto/. The SDK talks
// to a local server only (1.x through wxemu's preload, like a worker does).
'use strict'
const fs = require('fs')
const http = require('http')
const path = require('path')

const dir = path.resolve(process.argv[2] || '')
const prefix = process.argv[3]
if (!process.argv[2] || !prefix) {
  console.error('usage: node capture.js FUNCTION_DIR PREFIX')
  process.exit(2)
}
const out = path.join(__dirname, 'proto')
fs.mkdirSync(out, { recursive: true })

// requestData is the part of a multipart body named requestData.
function requestData(body, contentType) {
  const boundary = '--' + /boundary=(.+)$/.exec(contentType)[1]
  let at = body.indexOf(boundary)
  while (at >= 0) {
    const next = body.indexOf(boundary, at + boundary.length)
    if (next < 0) break
    const part = body.subarray(at + boundary.length + 2, next - 2)
    const headEnd = part.indexOf('\r\n\r\n')
    if (part.subarray(0, headEnd).toString().includes('name="requestData"')) return part.subarray(headEnd + 4)
    at = next
  }
  throw new Error('no requestData part')
}

const captured = []
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    captured.push(requestData(Buffer.concat(chunks), req.headers['content-type']))
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify({ code: 'CAPTURED', message: 'captured by capture.js' }))
  })
})

server.listen(0, '127.0.0.1', async () => {
  const gateway = `http://127.0.0.1:${server.address().port}/admin`
  Object.assign(process.env, {
    TENCENTCLOUD_RUNENV: 'SCF', TENCENTCLOUD_REGION: 'ap-shanghai', SCF_NAMESPACE: 'capture', TCB_ENV: 'capture',
    TENCENTCLOUD_SECRETID: 'AKIDcapture', TENCENTCLOUD_SECRETKEY: 'capture',
    TCB_CONTEXT_CNFG: JSON.stringify({ URL: gateway }),
    WX_CONTEXT_KEYS: 'WX_OPENID,WX_APPID,WX_UNIONID,WX_API_TOKEN', WX_OPENID: 'oUser', WX_APPID: 'wxapp', WX_API_TOKEN: 'capture-token',
  })
  require('../node/preload.js')
  const cloud = require(path.join(dir, 'node_modules', 'wx-server-sdk'))
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const cs = cloud.openapi.customerServiceMessage
  const png = Buffer.from('89504e470d0a1a0a', 'hex')
  const calls = {
    send: () => cs.send({ touser: 'oUser', msgtype: 'text', text: { content: '收到：你好' } }),
    'send-miniprogrampage': () => cs.send({ touser: 'oUser', msgtype: 'miniprogrampage', miniprogrampage: { title: 'T', pagepath: 'pages/index', thumbMediaId: 'THUMB' } }),
    setTyping: () => cs.setTyping({ touser: 'oUser', command: 'Typing' }),
    uploadTempMedia: () => cs.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: png } }),
    getTempMedia: () => cs.getTempMedia({ mediaId: 'MEDIA_ID' }),
  }
  for (const [name, call] of Object.entries(calls)) {
    const before = captured.length
    try {
      await call()
    } catch (e) {
      // The local server refuses every call: only the request matters here.
    }
    if (captured.length !== before + 1) throw new Error(`${name}: no request captured`)
    fs.writeFileSync(path.join(out, `${prefix}-${name}.bin`), captured[before])
  }

  // Answers, encoded by the protobuf library the SDK decodes them with.
  const protobuf = require(require.resolve('protobufjs', { paths: [path.join(dir, 'node_modules', 'wx-server-sdk')] }))
  const Resp = protobuf.Root.fromJSON({
    nested: {
      CommOpenApiResp: {
        fields: {
          respData: { type: 'bytes', id: 1 }, contentType: { type: 'string', id: 2 },
          errorCode: { type: 'int32', id: 3 }, httpCode: { type: 'uint32', id: 4 },
        },
      },
    },
  }).lookupType('CommOpenApiResp')
  const answers = {
    'resp-ok': { respData: Buffer.from('{"errcode":0,"errmsg":"ok"}'), contentType: 'application/json', httpCode: 200 },
    'resp-noperm': { respData: Buffer.alloc(0), contentType: '', errorCode: -604101, httpCode: 200 },
    'resp-media': { respData: png, contentType: 'image/png', httpCode: 200 },
  }
  for (const [name, msg] of Object.entries(answers)) {
    fs.writeFileSync(path.join(out, `${prefix}-${name}.bin`), Resp.encode(Resp.fromObject(msg)).finish())
  }
  server.close()
  console.log(`wrote ${Object.keys(calls).length + Object.keys(answers).length} files to ${out}`)
})
