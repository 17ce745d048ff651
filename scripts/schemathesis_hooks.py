"""Schemathesis hooks (SCHEMATHESIS_HOOKS=schemathesis_hooks): JSON Lines bodies are sent as the text they are
generated as, with their own media type, so POST /v1/training-sets/decide is fuzzed like every other operation."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
