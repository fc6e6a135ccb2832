;; Source of the WebAssembly kernel in gear-scan-wasm.ts (rebuild: bench/repo/assemble-gear-scan.mjs).
;; The cut-point scan of the chunker (src/repo/content/chunker.ts has the same loop in JavaScript, the
;; reference): for each byte b, h = (h << 1) + gear[b] (int32); the scan stops just past the first byte
;; where (h & mask) == 0. The memory is the chunk slots' shared memory; the gear table is its first
;; 1024 bytes (256 little-endian int32).
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; The hash after the last scan (read back by the caller, who keeps one hash per chunker).
  (global $hash (export "hash") (mut i32) (i32.const 0))
  ;; Scans [p, to) starting from hash $h. Returns the position just past the cut, or -1 when there is
  ;; none in the range. Offsets are unsigned.
  (func (export "scan") (param $p i32) (param $to i32) (param $mask i32) (param $h i32) (result i32)
    (block $tail
      (loop $quad
        (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $to)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u (local.get $p)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then
          (global.set $hash (local.get $h))
          (return (i32.add (local.get $p) (i32.const 1)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then
          (global.set $hash (local.get $h))
          (return (i32.add (local.get $p) (i32.const 2)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then
          (global.set $hash (local.get $h))
          (return (i32.add (local.get $p) (i32.const 3)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=3 (local.get $p)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then
          (global.set $hash (local.get $h))
          (return (i32.add (local.get $p) (i32.const 4)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $quad)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $p) (local.get $to)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u (local.get $p)) (i32.const 2)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then
          (global.set $hash (local.get $h))
          (return (local.get $p))))
        (br $one)))
    (global.set $hash (local.get $h))
    (i32.const -1)))
