# dummy0 (IFF_NOARP) transmits a ping straight away; the patched dummy_get_stats64 reports rx = tx.
s=/sys/class/net/dummy0/statistics
if [ ! -d "$s" ]; then echo "dummy0: no such device"; exit 1; fi
ip link set dummy0 up
ip addr add 10.11.0.1/24 dev dummy0 2>/dev/null
ping -c 1 -W 1 10.11.0.2 >/dev/null 2>&1
tx=$(cat "$s/tx_packets"); rx=$(cat "$s/rx_packets"); txb=$(cat "$s/tx_bytes"); rxb=$(cat "$s/rx_bytes")
echo "dummy0: tx_packets=$tx rx_packets=$rx tx_bytes=$txb rx_bytes=$rxb"
[ "$tx" -gt 0 ] && [ "$rx" = "$tx" ] && [ "$rxb" = "$txb" ]
