'use strict';
module.exports = require('./load')('index');
