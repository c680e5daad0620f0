# Source this to work by hand with the same tools `make` uses: `source tools/env.sh`.
_ty_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$_ty_root/.venv/bin:$_ty_root/node_modules/.bin:$PATH"
export SOLCX_BINARY_PATH="$_ty_root/tools/solc"
export PYTHONPATH="$_ty_root${PYTHONPATH:+:$PYTHONPATH}"
unset _ty_root
