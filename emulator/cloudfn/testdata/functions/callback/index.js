// Answers through its callback, the SCF runtime's oldest style: a transfer, or an error.
exports.main = function (event, context, callback) {
  setTimeout(() => {
    if (event.Content === 'fail') {
      callback(new Error('failed through the callback'))
      return
    }
    callback(null, {
      ToUserName: event.FromUserName,
      FromUserName: event.ToUserName,
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'transfer_customer_service',
      TransInfo: { KfAccount: 'kf1@wxemu_mp' },
    })
  }, 10)
}
