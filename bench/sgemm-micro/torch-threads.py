import ctypes, time, torch, os, json
# Whether torch.set_num_threads(1) reaches the OpenBLAS its matmuls call: prints torch's and OpenBLAS's thread
# counts and the threads in the process, then times 2000 products of ep_fc's shape in wall and CPU time.
#   /usr/bin/python3 bench/sgemm-micro/torch-threads.py;  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/sgemm-micro/torch-threads.py
torch.set_num_threads(1)
lib = [l.split()[-1] for l in open('/proc/self/maps') if 'libopenblas' in l][0]
ob = ctypes.CDLL(lib)
print(json.dumps({"torch_threads": torch.get_num_threads(), "openblas_lib": lib, "openblas_get_num_threads": ob.openblas_get_num_threads(), "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}))
x, W1 = torch.randn(64, 784), torch.randn(784, 500)
for _ in range(20): x @ W1
tw, tc = time.perf_counter(), time.process_time()
th0 = len(os.listdir('/proc/self/task'))
for _ in range(2000): x @ W1
w, c = time.perf_counter() - tw, time.process_time() - tc
print(json.dumps({"threads_in_process": len(os.listdir('/proc/self/task')), "wall_ms_per_matmul": round(w / 2 * 1000 / 1000, 4), "cpu_ms_per_matmul": round(c / 2, 4), "cpu_over_wall": round(c / w, 2)}))
