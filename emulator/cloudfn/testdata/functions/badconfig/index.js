exports.main = async () => 'success'
