# Runs inside pasta's user and network namespaces. Arguments: nft, the
# rules file, the file to record refused connections in, prlimit, the
# memory limit in bytes, the process limit, bwrap, then bwrap's arguments.
nft=$1 rules=$2 refused=$3 prlimit=$4 mem=$5 procs=$6
shift 6
if ! "$nft" -f "$rules"; then
  echo "latchkey: the sandbox's firewall could not be set up" >&2
  exit 125
fi
"$prlimit" --data="$mem" --nproc="$procs" --core=0 -- "$@"
rc=$?
"$nft" -j list set inet latchkey refused4 >"${refused}4" 2>/dev/null
"$nft" -j list set inet latchkey refused6 >"${refused}6" 2>/dev/null
exit $rc
