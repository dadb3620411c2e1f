#!/usr/bin/env node
// otel-harness CLI. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
import { main } from '../dist/src/cli/main.js';

// Exit explicitly: the Docker API client keeps sockets alive after the work is done.
process.exit(await main(process.argv.slice(2)));
