<?php
/* shop.php: the published items the member does not own, each pictured on
 * the member (/tryon.png) with a form that gets it (GrantItem).
 * Variables: $avatar (the member's), $items, $categories (by id). */
?>
<div class="page-head">
  <h1 class="page-title">Shop</h1>
  <p class="muted">Everything here is free in this demo: get it, then try it on in the dress-up room.</p>
</div>
<section class="card">
  <?php if (!$items): ?>
    <p class="center">You own every item of the catalog. Impressive!</p>
  <?php else: ?>
    <ul class="grid items">
      <?php foreach ($items as $item): ?>
        <li class="item" data-item-id="<?= h($item->id) ?>">
          <span class="item-cat"><?= h($categories[$item->categoryId]->name ?? '') ?></span>
          <img src="<?= h(tryon_url($avatar, $item->id)) ?>" width="120" height="160"
               alt="<?= h($item->name) ?> on you" loading="lazy">
          <span class="item-name"><?= h($item->name) ?></span>
          <span class="price"><?= $item->price > 0 ? h($item->price) . ' coins' : 'free' ?></span>
          <form method="post" action="/shop/get">
            <?= csrf_field() ?>
            <input type="hidden" name="item" value="<?= h($item->id) ?>">
            <button type="submit" class="button small get">Get it</button>
          </form>
        </li>
      <?php endforeach ?>
    </ul>
  <?php endif ?>
</section>
