/** A target standing in for a pipeline that could not be built from hotpatch.json: it fails with the reason. */
export default async function fail(options: { message: string }): Promise<{ success: boolean }> {
  process.stderr.write(`hotsplice: ${options.message}\n`);
  return { success: false };
}
