#!/usr/bin/env bash
# install-test-deps.sh: installs the Debian packages the tests run as real peers, when missing:
# git (git http-backend for the Git server), openssh-server (sshd for Git over SSH),
# openssh-client (ssh-keygen, ssh-agent), gnupg (OpenPGP interop checks), patch and diffutils,
# chromium (the browser tests of flux ui drive it with chromedp).
set -euo pipefail
missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v patch >/dev/null 2>&1 || missing+=(patch)
command -v diff >/dev/null 2>&1 || missing+=(diffutils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "test-deps: installing ${missing[*]} with apt-get"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: ${missing[*]} missing and not root (no sudo): install them with apt-get install ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "test-deps: installed ${missing[*]}"
