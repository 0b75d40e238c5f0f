<?php
/* dressup.php: the dress-up room. Left, the mirror: the saved avatar (its
 * versioned URL) and, while trying on, the preview (a data: URL of
 * PreviewAvatar's PNG) with the form that saves it. Right, the wardrobe: the
 * categories and the member's items of one, each a link that tries it on or
 * takes it off (a GET: nothing is saved until "Save this outfit"). Under the
 * mirror, a colour picker for each worn item with a tintable layer (the hair):
 * a GET form that tries the colours on (no script: the browser's own colour
 * input).
 * Variables: $avatar, $preview, $wear, $remove, $colours, $tintable,
 * $categories, $counts, $category, $cards, $saved. */
$trying = $preview !== null;
?>
<h1 class="page-title">Dress-up room</h1>
<div class="dressup">
  <section class="card mirror">
    <div class="mirror-row">
      <figure>
        <img id="current-avatar" class="avatar-full" src="<?= h($avatar->url) ?>" width="240" height="320"
             alt="Your saved avatar" data-version="<?= h($avatar->version) ?>">
        <figcaption>Saved · version <?= h($avatar->version) ?>
          <?php foreach ($avatar->colours as $id => $colour): ?>
            <span class="tint" data-item-id="<?= h($id) ?>"><?= h($colour) ?></span>
          <?php endforeach ?></figcaption>
      </figure>
      <?php if ($trying): ?>
        <figure class="trying">
          <img id="preview" class="avatar-full" src="<?= h($preview->dataUrl()) ?>" width="240" height="320"
               alt="Your avatar with what you are trying on">
          <figcaption>Trying on · not saved</figcaption>
        </figure>
      <?php endif ?>
    </div>
    <?php if ($trying): ?>
      <form method="post" action="/dressup/save" class="mirror-actions">
        <?= csrf_field() ?>
        <input type="hidden" name="category" value="<?= h($category->id ?? '') ?>">
        <?php foreach ($wear as $id): ?><input type="hidden" name="wear[]" value="<?= h($id) ?>"><?php endforeach ?>
        <?php foreach ($remove as $id): ?><input type="hidden" name="remove[]" value="<?= h($id) ?>"><?php endforeach ?>
        <?php foreach ($colours as $id => $colour): ?><input type="hidden" name="colour[<?= h($id) ?>]" value="<?= h($colour) ?>"><?php endforeach ?>
        <button type="submit" class="button" id="save-outfit">Save this outfit</button>
        <a class="button ghost" id="reset-outfit" href="<?= h('/dressup' . ($category ? '?category=' . $category->id : '')) ?>">Start over</a>
      </form>
    <?php else: ?>
      <p class="muted mirror-hint">Pick an item of your wardrobe to try it on. Nothing changes until you save.</p>
    <?php endif ?>
    <?php if ($tintable): ?>
      <form method="get" action="/dressup" class="colours" id="colours">
        <input type="hidden" name="category" value="<?= h($category->id ?? '') ?>">
        <?php foreach ($wear as $id): ?><input type="hidden" name="wear[]" value="<?= h($id) ?>"><?php endforeach ?>
        <?php foreach ($remove as $id): ?><input type="hidden" name="remove[]" value="<?= h($id) ?>"><?php endforeach ?>
        <?php foreach ($tintable as $t): ?>
          <label>Colour of <?= h($t['item']->name) ?>
            <input type="color" name="colour[<?= h($t['item']->id) ?>]" value="<?= h(strtolower($t['colour'])) ?>"
                   data-item-id="<?= h($t['item']->id) ?>"></label>
        <?php endforeach ?>
        <button type="submit" class="button ghost" id="try-colours">Try these colours</button>
      </form>
    <?php endif ?>
  </section>

  <section class="card wardrobe">
    <nav class="tabs" aria-label="Categories">
      <?php foreach ($categories as $c): ?>
        <?php if (empty($counts[$c->id])) continue; ?>
        <a href="<?= h(dressup_url($c->id, $wear, $remove)) ?>"
           class="tab<?= $category && $c->id === $category->id ? ' active' : '' ?>"><?= h($c->name) ?>
          <span class="count"><?= h($counts[$c->id]) ?></span></a>
      <?php endforeach ?>
    </nav>
    <?php if (!$cards): ?>
      <p class="muted">Your wardrobe is empty. Visit the <a href="/shop">shop</a>.</p>
    <?php else: ?>
      <ul class="grid items">
        <?php foreach ($cards as $card): $m = $card['item']; ?>
          <li class="item<?= $card['on'] ? ' on' : '' ?>" data-item-id="<?= h($m->itemId) ?>">
            <a href="<?= h($card['toggle']) ?>" class="item-link">
              <img src="<?= h(tryon_url($avatar, $m->itemId)) ?>" width="120" height="160" alt="" loading="lazy">
              <span class="item-name"><?= h($m->name) ?></span>
              <?php if ($card['on'] && $category && $category->required): ?>
                <span class="pill">wearing</span>
              <?php else: ?>
                <span class="pill <?= $card['on'] ? 'off' : 'try' ?>"><?= $card['on'] ? 'Take off' : 'Try on' ?></span>
              <?php endif ?>
            </a>
          </li>
        <?php endforeach ?>
      </ul>
      <?php if ($category && $category->required): ?>
        <p class="muted small">Something from <?= h($category->name) ?> is always worn: try another one on to swap.</p>
      <?php endif ?>
    <?php endif ?>
  </section>
</div>
