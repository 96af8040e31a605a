export { REPO_ROOT, bundleCli } from './bundle';
export { isProblemLine, parseConsole, type ConsoleReport, type ScriptResult } from './console';
export { writeCpio, type CpioEntry } from './cpio';
export { GUEST_DIR, MARK, initScript } from './init-script';
export { initramfsEntries, withParentDirs, type GuestFile, type GuestScript } from './initramfs';
export { nodeRuntimeEntries, parseLdd } from './node-runtime';
export { boot, qemuArgs } from './qemu';
export { runGuest, type GuestOptions, type GuestResult } from './run';
export { ROOTFS_PACKAGES, bootRootfs, ensureRootfsImage, makeRunDisk, type RootfsBoot, type RootfsImage } from './rootfs';
