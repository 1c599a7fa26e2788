// Broken: does not parse.
exports.main = async (event) => {
  return 'success'
