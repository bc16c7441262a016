#!/usr/bin/env node
// The package's bin: the same entry as npm run lab / npm test.
import './bootstrap.mjs';
