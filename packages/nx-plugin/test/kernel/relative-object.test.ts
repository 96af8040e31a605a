// amdgpu builds its display files through relative paths (drivers/gpu/drm/amd/amdgpu/Makefile includes the display
// Makefiles with `AMDGPUPATH/../display/…` objects), so kbuild's object is drivers/gpu/drm/amd/amdgpu/../display/…
// and its flags (amdgpu's -I lines) are amdgpu's. A patch to a display file must compile with that command: issue 13
// found `amdgpu.h: No such file or directory` when the object was named by the source's own path.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { unifiedDiff } from '../../../objdiff/test/helpers/debian-source';
import { create, scratchWorkspace } from './workspace';

/** Source files are read here: another test may hold the shared tree patched. */
const pristineTree = inject('pristineTree');
const SOURCE = 'drivers/gpu/drm/amd/display/dc/core/dc_debug.c';

describe('an object kbuild names through a relative path (amdgpu display)', () => {
  it(`a change to ${SOURCE} builds with amdgpu's command, patching context_timing_trace in amdgpu`, () => {
    const ws = scratchWorkspace();
    const before = readFileSync(join(pristineTree, SOURCE), 'utf8');
    // (A changed string returned from dc_status_to_str's switch is refused: gcc turns the switch into a table,
    // CSWTCH.N, whose initializer changes.)
    const after = before.replace('h_pos[i] = position.horizontal_count;', 'h_pos[i] = position.horizontal_count & 0xffff;');
    expect(after).not.toBe(before);
    writeFileSync(join(ws, 'dc.patch'), unifiedDiff(SOURCE, before, after));
    const r = create(ws, '--patch', join(ws, 'dc.patch'), '--id', 'amd_display');
    expect(r.code, r.stderr).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'hs-pkg-'));
    execFileSync('tar', ['-xzf', join(ws, 'dist', 'hotpatch', 'amd_display', 'hotsplice-amd_display.tar.gz'), '-C', dir, 'manifest.json']);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.objects.map((o: { objname: string; functions: Array<{ name: string }> }) => [o.objname, o.functions.map((f) => f.name)])).toEqual([
      ['amdgpu', ['context_timing_trace']],
    ]);
    expect(r.stdout + r.stderr).toContain('drivers/gpu/drm/amd/amdgpu/../display/dc/core/dc_debug.o');
  });
});
