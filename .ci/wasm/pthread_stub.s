# pthread_join and pthread_detach for wasm32-wasip1 test binaries: std
# refers to them, and the wasi-libc of Debian bookworm has neither. Both
# answer ENOSYS (52); nothing calls them, as std cannot start a thread on
# wasm32-wasip1. Assembled by .ci/wasm-check with llvm-mc.
	.text
	.globl	pthread_join
	.type	pthread_join,@function
pthread_join:
	.functype	pthread_join (i32, i32) -> (i32)
	i32.const	52
	end_function
	.globl	pthread_detach
	.type	pthread_detach,@function
pthread_detach:
	.functype	pthread_detach (i32) -> (i32)
	i32.const	52
	end_function
