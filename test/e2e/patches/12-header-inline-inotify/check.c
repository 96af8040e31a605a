// Watches a directory (/) and a file (/init) with inotify and reads the masks back from /proc/self/fdinfo.
// Exit 0 iff the directory watch's mask carries IN_ISDIR and the file watch's does not.
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>

int main(void)
{
	char path[64], line[512];
	unsigned int wd, mask, dir_mask = 0, file_mask = 0;
	int fd = inotify_init1(0);
	int wd_dir = inotify_add_watch(fd, "/", IN_CREATE);
	int wd_file = inotify_add_watch(fd, "/init", IN_MODIFY);
	FILE *f;

	if (fd < 0 || wd_dir < 0 || wd_file < 0) {
		perror("inotify");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char *m = strstr(line, " mask:");

		if (sscanf(line, "inotify wd:%x", &wd) != 1 || !m || sscanf(m, " mask:%x", &mask) != 1)
			continue;
		if ((int)wd == wd_dir)
			dir_mask = mask;
		else if ((int)wd == wd_file)
			file_mask = mask;
	}
	fclose(f);
	printf("inotify fdinfo masks: dir %#x, file %#x\n", dir_mask, file_mask);
	return dir_mask == (IN_CREATE | IN_ISDIR) && file_mask == IN_MODIFY ? 0 : 1;
}
