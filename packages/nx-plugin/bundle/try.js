'use strict';
module.exports = require('./load')('executors/try');
