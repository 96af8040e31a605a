# uname(2) reports the word the patched newuname body adds (the version field holds 64 characters: a short word),
# and the last callback that ran is the post_patch one (it names its klp object: vmlinux).
uname -v | grep -q ' hs19$' || { echo "uname -v: $(uname -v)"; exit 1; }
last=$(dmesg | grep 'hotsplice-19:' | tail -n 1)
echo "last callback: $last"
echo "$last" | grep -q 'post_patch vmlinux'
