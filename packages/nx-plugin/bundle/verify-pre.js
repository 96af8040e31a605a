'use strict';
module.exports = require('./load')('executors/verify-pre');
