// The Backstage catalog backend alone, as `make bench --peer backstage` runs it (see bench/peer.py).
const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.start();
