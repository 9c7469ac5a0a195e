# Sourced by the scripts: `find_python pythonX.Y` prints a runnable interpreter of that name, or
# pyenv's installation of it (a pyenv shim of a version that is not enabled exists but fails).
find_python() {
  local name=$1 candidate
  if "$name" -c pass 2> /dev/null; then
    command -v "$name"
    return
  fi
  local version=${name#python}
  [ "$version" != "$name" ] && [ -n "$version" ] || return 1
  for candidate in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".* 2> /dev/null | sort -V -r); do
    if "$candidate/bin/$name" -c pass 2> /dev/null; then
      echo "$candidate/bin/$name"
      return
    fi
  done
  return 1
}
