// msa_cpu_pool.cpp - the CPU kernel's persistent helper threads.
//
// Why not an OpenMP parallel region: its end barrier waits for every team
// thread, and libgomp's threads spin while they wait. On a machine whose
// cores are shared with other processes a helper that is not scheduled makes
// the caller spin until it is (measured on the 2-core Zen 3 VM with one busy
// process: a 0.15 ms decode call took 28-40 ms). Here the caller works
// itself and waits only for helpers that took part in the job; a helper that
// wakes up late finds the job closed (or its work items all claimed) and
// goes back to waiting. Helpers spin briefly for the next job before they
// block, so back-to-back calls (one per layer when serving) start at once.
#include "msa_cpu_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace msa_cpu {
namespace {

class Pool {
public:
  void run(int n, const std::function<void(int)> &fn) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) { // another call is using the helpers
      fn(0);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      while (helpers_ < n - 1 && spawn())
        ++helpers_;
      job_ = &fn;
      want_ = n - 1;
      joined_ = 0;
      open_ = true;
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_work_.notify_all();
    fn(0);
    {
      std::lock_guard<std::mutex> lk(m_);
      open_ = false; // no helper joins from here on
    }
    spin_until([&] { return active_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lk(m_);
    cv_done_.wait(lk, [&] { return active_.load() == 0; });
    job_ = nullptr;
  }

private:
  bool spawn() {
    try {
      std::thread(&Pool::helper, this).detach();
      return true;
    } catch (...) { // no thread: the caller does the work
      return false;
    }
  }

  // Spins until done() or for about 0.1 ms (a futex wake-up on this kind of
  // VM takes about as long).
  template <class F> static void spin_until(F done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    for (int i = 0; !done(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > end)
        return;
    }
  }

  void helper() {
    uint64_t seen = gen_.load(std::memory_order_acquire);
    for (;;) {
      spin_until([&] { return gen_.load(std::memory_order_acquire) != seen; });
      std::unique_lock<std::mutex> lk(m_);
      cv_work_.wait(lk, [&] { return gen_.load(std::memory_order_relaxed) != seen; });
      seen = gen_.load(std::memory_order_relaxed);
      if (!open_ || joined_ >= want_)
        continue;
      const int worker = ++joined_;
      ++active_;
      const std::function<void(int)> *fn = job_;
      lk.unlock();
      (*fn)(worker);
      lk.lock();
      if (active_.fetch_sub(1, std::memory_order_release) == 1)
        cv_done_.notify_all();
    }
  }

  std::mutex busy_; // one job at a time
  std::mutex m_;    // guards everything below but gen_'s spinning reads
  std::condition_variable cv_work_, cv_done_;
  std::atomic<uint64_t> gen_{0};
  const std::function<void(int)> *job_ = nullptr;
  std::atomic<int> active_{0}; // helpers running fn (read while spinning)
  int helpers_ = 0, want_ = 0, joined_ = 0;
  bool open_ = false;
};

} // namespace

void pool_run(int n, const std::function<void(int)> &fn) {
  if (n <= 1) {
    fn(0);
    return;
  }
  // Never destroyed: detached helpers wait on its members until exit.
  static Pool *const pool = new Pool;
  pool->run(n, fn);
}

} // namespace msa_cpu
