#!/usr/bin/env node
// The command line, compiled to dist/ by `npm install` (the `prepare` script) or `npm run build`.
import '../dist/cli/main.js';
