// Broken: exports handler, not main.
exports.handler = async () => 'success'
