#!/usr/bin/env bash
# Group 4 — OpenSSH: RSA-2048 and P-256 keys made by openssl are imported with the
# ferrohsm CLI (so their OpenSSH public keys are known without FerroHSM) and a P-256
# key is generated on the token. `ssh-keygen -D` lists the token's keys; a private
# ssh-agent on a Unix socket in the temporary directory loads them with `ssh-add -s`;
# `ssh-keygen -Y sign` signs through the agent and `ssh-keygen -Y verify` checks the
# signatures against the public keys derived from openssl's files.
# OpenSSH 9.2 has no PKCS#11 Ed25519 support, so no Edwards key here.
# The PIN reaches ssh-add through SSH_ASKPASS (a script reading the PIN file).
# usage: openssh_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd ssh-keygen ssh-agent ssh-add openssl
check "fresh token 'ssh' (ferrohsm token init)" init_token ssh

keys() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.pem"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ec.pem"
  local k
  for k in rsa ec; do
    openssl pkey -in "$work/$k.pem" -pubout -out "$work/$k.spki"
    ssh-keygen -i -m PKCS8 -f "$work/$k.spki" > "$work/$k.pub"
    FERROHSM_PIN="$USER_PIN" "$cli" key import --token ssh --file "$work/$k.pem" --label "ssh-$k"
  done
  FERROHSM_PIN="$USER_PIN" "$cli" key generate --token ssh --type ec:p256 --label ssh-gen
}
check "keys: RSA-2048 and P-256 from openssl imported, P-256 generated (ferrohsm CLI)" keys

list_d() {
  ssh-keygen -D "$module" > "$work/listed"
  cat "$work/listed"
  [ "$(grep -c '^ssh-rsa \|^ecdsa-sha2-nistp256 ' "$work/listed")" -eq 3 ]
  local k
  for k in rsa ec; do  # the key material (2nd field) of the openssl keys is listed
    grep -qF "$(cut -d' ' -f2 "$work/$k.pub")" "$work/listed"
  done
}
check "ssh-keygen -D lists the three keys, the imported ones unchanged" list_d

cat > "$work/askpass" <<ASK
#!/bin/sh
cat "$work/user.pin"
ASK
chmod 700 "$work/askpass"

start_agent() {
  # -P: the agent loads PKCS#11 modules only from this allow-list
  ssh-agent -s -a "$work/agent.sock" -P "$module" > "$work/agent.env"
  grep -o 'SSH_AGENT_PID=[0-9]*' "$work/agent.env" | cut -d= -f2 > "$work/agent.pid"
  [ -S "$work/agent.sock" ]
}
check "a private ssh-agent on a Unix socket" start_agent
if [ -s "$work/agent.pid" ]; then on_cleanup "kill $(cat "$work/agent.pid")"; fi
export SSH_AUTH_SOCK="$work/agent.sock"

add_s() {
  SSH_ASKPASS="$work/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none ssh-add -s "$module" < /dev/null
  ssh-add -L > "$work/agent-keys"
  cat "$work/agent-keys"
  [ "$(wc -l < "$work/agent-keys")" -eq 3 ]
  grep -qF "$(cut -d' ' -f2 "$work/rsa.pub")" "$work/agent-keys"
  grep -qF "$(cut -d' ' -f2 "$work/ec.pub")" "$work/agent-keys"
}
check "ssh-add -s loads the token's keys into the agent" add_s

echo "signed through ssh-agent by FerroHSM" > "$work/msg"
sign_verify() {  # rsa|ec
  rm -f "$work/msg.sig"
  ssh-keygen -Y sign -f "$work/$1.pub" -n file "$work/msg"
  echo "tester@ferrohsm $(cat "$work/$1.pub")" > "$work/allowed"
  ssh-keygen -Y verify -f "$work/allowed" -I tester@ferrohsm -n file -s "$work/msg.sig" < "$work/msg"
  cp "$work/msg.sig" "$work/$1.sshsig"
}
check "ssh-keygen -Y sign (RSA, through the agent); -Y verify accepts it"   sign_verify rsa
check "ssh-keygen -Y sign (P-256, through the agent); -Y verify accepts it" sign_verify ec

reject() {
  echo "other message" > "$work/other"
  echo "tester@ferrohsm $(cat "$work/ec.pub")" > "$work/allowed"
  ! ssh-keygen -Y verify -f "$work/allowed" -I tester@ferrohsm -n file -s "$work/ec.sshsig" < "$work/other"
  echo "tester@ferrohsm $(cat "$work/rsa.pub")" > "$work/allowed"
  ! ssh-keygen -Y verify -f "$work/allowed" -I tester@ferrohsm -n file -s "$work/ec.sshsig" < "$work/msg"
}
check "-Y verify rejects another message and another key" reject

gen_key() {  # the token-generated key signs too; its public key comes from the agent
  grep -vF -e "$(cut -d' ' -f2 "$work/rsa.pub")" -e "$(cut -d' ' -f2 "$work/ec.pub")" "$work/agent-keys" > "$work/gen.pub"
  [ "$(wc -l < "$work/gen.pub")" -eq 1 ]
  rm -f "$work/msg.sig"
  ssh-keygen -Y sign -f "$work/gen.pub" -n file "$work/msg"
  echo "tester@ferrohsm $(cat "$work/gen.pub")" > "$work/allowed"
  ssh-keygen -Y verify -f "$work/allowed" -I tester@ferrohsm -n file -s "$work/msg.sig" < "$work/msg"
}
check "ssh-keygen -Y sign with the token-generated P-256 key; -Y verify accepts it" gen_key

remove() {
  ssh-add -e "$module"
  [ "$(ssh-add -L | grep -c '^ssh-\|^ecdsa-' || true)" -eq 0 ]
}
check "ssh-add -e removes the token's keys from the agent" remove

finish
