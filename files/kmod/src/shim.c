// SPDX-License-Identifier: GPL-2.0
/*
 * roulette: the C half of kernel-roulette.
 *
 * This file holds what needs kernel headers: the module parameter, the
 * character device, copies to user space, and thin wrappers that give the
 * Rust side printk, the slab allocator, the CSPRNG and BUG().
 *
 * A spin happens on the first read() of an open file. The read path holds
 * no lock and takes no module reference of its own while the Rust code
 * runs, so when a boom raises BUG() the oops kills only the reader; its
 * files are closed on exit, which drops the VFS's module reference, and
 * the module can still be unloaded.
 */

/* Every line this module logs, the Rust ones too, starts with "roulette: ". */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define DEVICE_NAME "kernel-roulette"

/* The Rust side (src/roulette.rs). */
int rr_init(int requested, bool given);
void rr_announce(int major);
ssize_t rr_spin(char *out, size_t cap);

/* Called by the Rust side. Not static: they are resolved at link time. */
void rr_printk(int level, const char *msg, size_t len);
void *rr_kmalloc(size_t size);
void *rr_krealloc(void *ptr, size_t size);
void rr_kfree(void *ptr);
u32 rr_random_u32(void);
void __noreturn rr_abort(void);

/* src/kalloc.rs relies on this alignment for every kmalloc() object. */
static_assert(ARCH_KMALLOC_MINALIGN >= 8);

static int chance = -1;
static bool chance_given;

static int chance_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_int(val, kp);

	if (!ret)
		chance_given = true;
	return ret;
}

static const struct kernel_param_ops chance_ops = {
	.set = chance_set,
	.get = param_get_int,
};

/* Read-only in sysfs; after load it shows the probability in effect. */
module_param_cb(chance, &chance_ops, &chance, 0444);
MODULE_PARM_DESC(chance, "Panic probability in percent, 0..100 (default: random 0..99)");

static int major;

/* Per open file: the result of its spin, read out like a small file. */
struct spin_result {
	struct mutex lock;	/* guards len and text, never held across a spin */
	size_t len;		/* 0 until the first read() has spun */
	char text[80];
};

static int roulette_open(struct inode *inode, struct file *file)
{
	struct spin_result *res = kzalloc(sizeof(*res), GFP_KERNEL);

	if (!res)
		return -ENOMEM;
	mutex_init(&res->lock);
	file->private_data = res;
	return nonseekable_open(inode, file);
}

static ssize_t roulette_read(struct file *file, char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct spin_result *res = file->private_data;
	char text[sizeof(res->text)];
	ssize_t len = 0;
	ssize_t ret;

	mutex_lock(&res->lock);
	if (res->len) {
		ret = simple_read_from_buffer(buf, count, ppos, res->text, res->len);
		mutex_unlock(&res->lock);
		return ret;
	}
	mutex_unlock(&res->lock);

	/* May not return: a boom ends in rr_abort() with no lock held. */
	len = rr_spin(text, sizeof(text));
	if (len <= 0)
		return len ? len : -EIO;

	mutex_lock(&res->lock);
	if (!res->len) {	/* a concurrent reader may have spun first */
		memcpy(res->text, text, len);
		res->len = len;
	}
	ret = simple_read_from_buffer(buf, count, ppos, res->text, res->len);
	mutex_unlock(&res->lock);
	return ret;
}

static int roulette_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static const struct file_operations roulette_fops = {
	.owner = THIS_MODULE,
	.open = roulette_open,
	.read = roulette_read,
	.release = roulette_release,
};

/* level: LOGLEVEL_ERR or LOGLEVEL_INFO (enum LogLevel in src/print.rs). */
void rr_printk(int level, const char *msg, size_t len)
{
	int n = min_t(size_t, len, INT_MAX);

	/* "%.*s": the Rust text is never parsed as a format string. */
	switch (level) {
	case LOGLEVEL_ERR:
		pr_err("%.*s", n, msg);
		break;
	case LOGLEVEL_INFO:
		pr_info("%.*s", n, msg);
		break;
	default:	/* not reached: LogLevel has no other value */
		pr_err("%.*s", n, msg);
		break;
	}
}

void *rr_kmalloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL);
}

void *rr_krealloc(void *ptr, size_t size)
{
	return krealloc(ptr, size, GFP_KERNEL);
}

void rr_kfree(void *ptr)
{
	kfree(ptr);
}

u32 rr_random_u32(void)
{
	return get_random_u32();
}

/*
 * The end of every Rust panic (src/panic.rs). Not named abort(): LLVM would
 * take that for the C library's and drop the trap the Rust caller ends in.
 */
void __noreturn rr_abort(void)
{
	BUG();
}

static int __init roulette_init(void)
{
	int ret = rr_init(chance, chance_given);

	if (ret < 0)
		return ret;
	chance = ret;

	major = register_chrdev(0, DEVICE_NAME, &roulette_fops);
	if (major < 0) {
		pr_err("cannot register %s: %d\n", DEVICE_NAME, major);
		return major;
	}
	rr_announce(major);
	return 0;
}

static void __exit roulette_exit(void)
{
	unregister_chrdev(major, DEVICE_NAME);
}

module_init(roulette_init);
module_exit(roulette_exit);

MODULE_LICENSE("GPL");
/* Which build this is: the kmod_load role compares it with the installed file. */
MODULE_VERSION(ROULETTE_VERSION);
MODULE_DESCRIPTION("Russian roulette device: a read may raise BUG() from Rust");
MODULE_AUTHOR("rustkmod.roulette contributors");
