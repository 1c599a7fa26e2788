const cloud = require('wx-server-sdk')
exports.main = async () => 'success'
