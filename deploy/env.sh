# Sourced by release.sh and manage.sh: read an environment file into the environment.
#
# load_env FILE reads NAME=value lines the way systemd's EnvironmentFile does for the
# services: blank lines and # comments skipped, one pair of surrounding quotes dropped,
# nothing expanded (a $ in a password stays a $).
load_env() {
  local file=$1 line name value
  if [ ! -r "$file" ]; then
    echo "$(basename "$0"): cannot read $file" >&2
    exit 1
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case "$line" in '' | '#'* | ';'*) continue ;; esac
    name=${line%%=*}
    value=${line#*=}
    if [[ ! $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [ "$name" = "$line" ]; then
      echo "$(basename "$0"): $file: not a NAME=value line: ${line:0:40}" >&2
      exit 1
    fi
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    export "$name=$value"
  done <"$file"
}
